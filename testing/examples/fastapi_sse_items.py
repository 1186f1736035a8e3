"""FastAPI's own SSE tutorial (fastapi.tiangolo.com, "Server-Sent Events"): an async generator
of Pydantic models with ``response_class=EventSourceResponse`` from ``fastapi.sse``."""

import asyncio
import sys
from collections.abc import AsyncIterable

import uvicorn
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str
    price: float


items = [
    Item(name="Plumbus", price=32.99),
    Item(name="Portal Gun", price=999.99),
    Item(name="Meeseeks Box", price=49.99),
]


@app.get("/items/stream", response_class=EventSourceResponse)
async def sse_items() -> AsyncIterable[Item]:
    for item in items:
        yield item
        await asyncio.sleep(0.1)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
