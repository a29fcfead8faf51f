"""The forked map: the serial result in the serial order, a worker's error raised, a dead worker named."""

import os
import time

import numpy as np
import pytest

from zeostem.parallel import forked_map


def square_after_a_pause(x: int) -> int:
    time.sleep(0.01 * (5 - x))  # later items finish first: the order must still be the items'
    return x * x


def test_results_come_in_the_items_order_whatever_finishes_first():
    assert forked_map(square_after_a_pause, list(range(5)), 2, "squares") == [0, 1, 4, 9, 16]


def test_a_worker_s_exception_is_raised_here():
    def fail_on_three(x):
        if x == 3:
            raise ValueError("three")
        return x

    with pytest.raises(ValueError, match="three"):
        forked_map(fail_on_three, list(range(5)), 2, "failing")


def test_a_worker_that_dies_stops_the_map_with_a_clear_error():
    """With multiprocessing.Pool the task of a killed worker was never answered: the map hung for ever."""

    def die_on_two(x):
        if x == 2:
            os._exit(9)  # as the kernel's OOM killer leaves it: no exception, no cleanup
        return x

    start = time.monotonic()
    with pytest.raises(RuntimeError, match="dying: a worker process died"):
        forked_map(die_on_two, list(range(4)), 2, "dying")
    assert time.monotonic() - start < 60


def test_one_thread_per_task_so_results_do_not_depend_on_the_worker_count():
    rng = np.random.default_rng(0)
    blocks = [rng.normal(size=(200, 200)) for _ in range(4)]
    serial = forked_map(lambda m: float(np.sum(m @ m)), blocks, 1, "serial")
    assert forked_map(lambda m: float(np.sum(m @ m)), blocks, 2, "forked") == serial
