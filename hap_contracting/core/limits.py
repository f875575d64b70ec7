"""A memory ceiling for one piece of work (a claims import in the worker): past it, the work
gets a MemoryError it can answer, instead of the whole worker being killed."""

import contextlib
import os
import resource


def _address_space_in_use() -> int | None:
    """The process's virtual size in bytes (Linux); None where /proc does not tell."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


@contextlib.contextmanager
def memory_ceiling(megabytes: int):
    """Allow the process ``megabytes`` more address space for the block, then restore."""
    in_use = _address_space_in_use()
    if not megabytes or in_use is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = in_use + megabytes * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
