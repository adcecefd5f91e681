"""The baseline for bench/public.py: a bare Litestar endpoint returning a constant."""

from litestar import Litestar, get


@get("/", sync_to_thread=False)
def constant() -> dict[str, str]:
    return {"status": "normal"}


app = Litestar([constant])
