"""Operator commands for parked (dead-lettered) messages:

    python -m taquilla_messaging parked <service> [--limit N] [--url AMQP_URL] [--prefix P]   # list them
    python -m taquilla_messaging replay <service> [--limit N] [--url AMQP_URL] [--prefix P]   # send them back
"""
from __future__ import annotations

import argparse
import asyncio
import json

import aio_pika

from .consumer import parked_messages, replay_dead_letters
from .topology import Topology


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m taquilla_messaging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("parked", "list a service's parked messages (one JSON object a line), leaving them"),
                       ("replay", "move a service's parked messages back to its queue")):
        command = sub.add_parser(name, help=text)
        command.add_argument("service")
        command.add_argument("--limit", type=int)
        command.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/")
        command.add_argument("--prefix", default="taquilla")
    args = parser.parse_args()
    topology = Topology(args.prefix)

    async def run() -> None:
        connection = await aio_pika.connect_robust(args.url)
        async with connection:
            if args.command == "parked":
                for message in await parked_messages(connection, topology, args.service, args.limit or 100):
                    print(json.dumps(message))
                return
            moved = await replay_dead_letters(connection, topology, args.service, args.limit)
        print(f"replayed {moved} message(s) to {topology.queue(args.service)}")

    asyncio.run(run())


if __name__ == "__main__":
    main()
