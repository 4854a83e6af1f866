"""An ASGI app for uvicorn --workers 2; lines marked '# worker' run only in its workers."""


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()  # worker
            if message["type"] == "lifespan.startup":  # worker
                await send({"type": "lifespan.startup.complete"})  # worker
            elif message["type"] == "lifespan.shutdown":  # worker
                await send({"type": "lifespan.shutdown.complete"})  # worker
                return  # worker
    else:
        headers = [(b"content-length", b"5")]  # worker
        await send({"type": "http.response.start", "status": 200, "headers": headers})  # worker
        await send({"type": "http.response.body", "body": b"hello"})  # worker
