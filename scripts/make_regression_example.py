"""Write a CSV of a linear regression of scikit-learn's diabetes dataset, for
`ferrometrics regression`.

The CSV has a header row and two columns: `prediction`, the in-sample prediction of a
`LinearRegression` fitted on the ten features, and `progression`, the true target. Values are
written with repr(), so they read back as the same float64 values.

Usage:
    python scripts/make_regression_example.py examples/diabetes_linear.csv
"""

import argparse
import csv

from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="path of the CSV file to write")
    args = parser.parse_args()

    features, target = load_diabetes(return_X_y=True)
    preds = LinearRegression().fit(features, target).predict(features)

    with open(args.output, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["prediction", "progression"])
        for prediction, progression in zip(preds.tolist(), target.tolist()):
            writer.writerow([repr(prediction), repr(progression)])


if __name__ == "__main__":
    main()
