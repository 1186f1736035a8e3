"""Django's StreamingHttpResponse with an async iterator (docs "Request and response objects",
streaming), served as ASGI by uvicorn: one module, settings configured in place."""

import asyncio
import sys
from collections.abc import AsyncGenerator

import uvicorn
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path

settings.configure(DEBUG=False, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], SECRET_KEY="example")


async def stream(request: HttpRequest) -> StreamingHttpResponse:
    async def gen() -> AsyncGenerator[str, None]:
        for i in range(5):
            yield f"data: {i}\n\n"
            await asyncio.sleep(0.1)

    return StreamingHttpResponse(gen(), content_type="text/event-stream")


urlpatterns = [path("stream", stream)]
app = get_asgi_application()

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
