from astrozoo.testing import one_thread, workdir  # noqa: F401
