"""`python -m taquilla_messaging replay <service> [--limit N] [--url AMQP_URL] [--prefix P]`."""
from __future__ import annotations

import argparse
import asyncio

import aio_pika

from .consumer import replay_dead_letters
from .topology import Topology


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m taquilla_messaging")
    sub = parser.add_subparsers(dest="command", required=True)
    replay = sub.add_parser("replay", help="move a service's parked messages back to its queue")
    replay.add_argument("service")
    replay.add_argument("--limit", type=int)
    replay.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/")
    replay.add_argument("--prefix", default="taquilla")
    args = parser.parse_args()

    async def run() -> None:
        connection = await aio_pika.connect_robust(args.url)
        async with connection:
            moved = await replay_dead_letters(connection, Topology(args.prefix), args.service, args.limit)
        print(f"replayed {moved} message(s) to {Topology(args.prefix).queue(args.service)}")

    asyncio.run(run())


if __name__ == "__main__":
    main()
