"""A FastAPI app whose every request runs the memory as the signed-in Supabase user.

The user's access token (``Authorization: Bearer …``, from supabase-js or supabase-py) is
verified against the project's published keys; the memory then runs under row-level security
as that user, so one user's request can never read or change another user's memory, even if
this code has a bug. Apply the migration first (docs/supabase.md).

Run::

    pip install "mastra-memory[supabase]" fastapi uvicorn
    export SUPABASE_URL=https://<ref>.supabase.co
    export DATABASE_URL="postgresql://postgres.<ref>:<password>@aws-0-<region>.pooler.supabase.com:6543/postgres?sslmode=require"
    python docs/examples/supabase_fastapi.py
"""

# No "from __future__ import annotations": FastAPI reads the endpoints' annotations at run time.
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from pydantic import BaseModel

from mastra_memory import AsyncMemory, AuthError, Message, NotFoundError, PermissionDeniedError
from mastra_memory.supabase import SupabaseJWTVerifier


@dataclass(frozen=True)
class Caller:
    """The memory bound to one request's user, and that user's id (their resource id)."""

    memory: AsyncMemory
    user_id: str


class NewThread(BaseModel):
    title: str = ""


class NewMessage(BaseModel):
    text: str


def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Caller:
    """Verify the bearer token and bind the memory to its user.

    A plain def: FastAPI runs it in a worker thread, so fetching the project's keys never blocks
    the event loop.
    """
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "send Authorization: Bearer <the user's Supabase access token>")
    try:
        auth = request.app.state.verifier.auth_context(token)
    except AuthError as exc:
        raise HTTPException(401, str(exc)) from exc
    if auth.subject is None:
        raise HTTPException(403, "sign in first: this API serves signed-in users")
    return Caller(request.app.state.memory.with_auth(auth), auth.subject)


UserMemory = Annotated[Caller, Depends(caller)]


def create_app(dsn: str, verifier: SupabaseJWTVerifier, *, schema: str = "public") -> FastAPI:
    """The app; one pool for every user, one cheap ``with_auth`` view per request."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # migrate=False: the tables come from the Supabase migration, not from the app at run time.
        async with await AsyncMemory.connect(dsn, schema=schema, migrate=False, max_size=4) as memory:
            app.state.memory = memory
            yield

    app = FastAPI(title="Agent memory per Supabase user", lifespan=lifespan)
    app.state.verifier = verifier

    @app.post("/threads")
    async def create_thread(body: NewThread, user: UserMemory) -> dict[str, str]:
        thread = await user.memory.create_thread(user.user_id, title=body.title)
        return {"id": thread.id, "title": thread.title}

    @app.get("/threads")
    async def list_threads(user: UserMemory) -> list[dict[str, str]]:
        page = await user.memory.list_threads(resource_id=user.user_id)
        return [{"id": t.id, "title": t.title} for t in page.threads]

    @app.post("/threads/{thread_id}/messages")
    async def add_message(thread_id: str, body: NewMessage, user: UserMemory) -> dict[str, str | None]:
        try:
            saved = await user.memory.save_messages([Message.user(body.text, thread_id=thread_id)])
        except NotFoundError as exc:  # someone else's thread is invisible, hence "not found"
            raise HTTPException(404, str(exc)) from exc
        except PermissionDeniedError as exc:
            raise HTTPException(403, str(exc)) from exc
        return {"id": saved[0].id}

    @app.get("/threads/{thread_id}/messages")
    async def history(thread_id: str, user: UserMemory) -> list[dict[str, str]]:
        context = await user.memory.recall(thread_id, resource_id=user.user_id, last_messages=20)
        return [{"role": m.role, "text": m.text} for m in context.messages]

    return app


if __name__ == "__main__":
    import uvicorn  # not a dependency of mastra-memory: pip install uvicorn

    project = os.environ["SUPABASE_URL"]
    uvicorn.run(create_app(os.environ["DATABASE_URL"], SupabaseJWTVerifier(project_url=project)), port=8000)
