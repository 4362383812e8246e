"""The base of every request and response model."""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A pydantic model whose validator is built the first time it is used, not when its module is imported:
    a function uses a few of the API's models, and building all of them was a large part of its cold start."""

    model_config = ConfigDict(defer_build=True)
