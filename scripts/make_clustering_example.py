"""Write a CSV of a scikit-learn dataset clustered with KMeans, for `ferrometrics clustering`.

The CSV has a header row, one column per feature, then `target` (the true class) and `preds`
(the KMeans cluster). Features are written with repr(), so they read back as the same float64
values that KMeans saw.

Usage:
    python scripts/make_clustering_example.py wine.csv
    python scripts/make_clustering_example.py --dataset digits digits.csv
"""

import argparse
import csv

from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, load_iris, load_wine

LOADERS = {"wine": load_wine, "iris": load_iris, "digits": load_digits}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="path of the CSV file to write")
    parser.add_argument(
        "--dataset",
        choices=sorted(LOADERS),
        default="wine",
        help="scikit-learn bundled dataset to cluster (default: wine)",
    )
    args = parser.parse_args()

    dataset = LOADERS[args.dataset]()
    n_clusters = len(set(dataset.target))
    kmeans = KMeans(n_clusters=n_clusters, random_state=0, n_init=10)
    preds = kmeans.fit_predict(dataset.data)

    with open(args.output, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([*dataset.feature_names, "target", "preds"])
        for row, target, pred in zip(dataset.data, dataset.target, preds):
            writer.writerow([*(repr(float(value)) for value in row), int(target), int(pred)])


if __name__ == "__main__":
    main()
