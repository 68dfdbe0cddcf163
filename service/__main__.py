"""``python -m service --host --port --data-dir --workers --database-url``."""

import argparse
import sys

from service.main import SERVE_OPTIONS, serve


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m service", description="Run the featimp REST service."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--data-dir", help="default: $FEATIMP_DATA_DIR or ./featimp-data"
    )
    parser.add_argument("--workers", type=int, help="size of the local process pool")
    parser.add_argument(
        "--database-url", help="PostgreSQL URL (default: $FEATIMP_DATABASE_URL)"
    )
    args = parser.parse_args(argv)
    try:
        serve(**{name: getattr(args, name) for name in SERVE_OPTIONS})
    except (ValueError, ImportError) as exc:
        print(f"{parser.prog}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
