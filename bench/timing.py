"""Timing helpers shared by the benchmark scripts and the TorchMetrics worker scripts."""
import resource
import time


def cpu_seconds():
    """Return the CPU time of this process so far: user plus system, every thread counted."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn, *args):
    """Return the wall time and CPU time of one call of `fn(*args)`, in seconds, and its value."""
    wall_start, cpu_start = time.perf_counter(), cpu_seconds()
    value = fn(*args)
    return time.perf_counter() - wall_start, cpu_seconds() - cpu_start, value


def best_of(repeats, fn, *args):
    """Return (wall, cpu, value) of the call with the lowest wall time among `repeats` calls."""
    return min((timed(fn, *args) for _ in range(repeats)), key=lambda run: run[0])
