"""``python -m service --host --port --data-dir --workers``."""

import argparse

from service.main import serve


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
    args = parser.parse_args(argv)
    serve(host=args.host, port=args.port, data_dir=args.data_dir, workers=args.workers)


if __name__ == "__main__":
    main()
