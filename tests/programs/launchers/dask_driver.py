"""A Dask LocalCluster with two spawned worker processes, mapping a task over them."""

from dask.distributed import Client, LocalCluster


def inc(x):
    return x + 1  # dask-task


def main():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        assert client.gather(client.map(inc, range(4))) == [1, 2, 3, 4]


if __name__ == "__main__":
    main()
