"""Flask's "Streaming Contents" pattern (flask.palletsprojects.com/patterns/streaming/): a
generator in a Response with the event-stream mimetype, on Flask's own threaded server."""

import sys
import time
from collections.abc import Iterator

from flask import Flask, Response

app = Flask(__name__)


@app.route("/stream")
def stream() -> Response:
    def generate() -> Iterator[str]:
        for i in range(5):
            yield f"data: {i}\n\n"
            time.sleep(0.2)

    return Response(generate(), mimetype="text/event-stream")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
