#!/usr/bin/python3
"""Writes the fixture that TestPreprocessMatchesScikitLearn compares with.

onehot_input.csv is a table with a text column, a column of numeric codes
and a numeric column with missing cells; its first TRAIN rows are the
training split. onehot_sklearn.csv is what scikit-learn makes of every row
with a ColumnTransformer fitted on the training split: OneHotEncoder
(handle_unknown="ignore") for the text and code columns, SimpleImputer
(strategy="median") for the numeric one, in the table's column order.
onehot_categories.json holds the fitted categories.

Run with Debian's python3-sklearn: /usr/bin/python3 onehot_sklearn.py
"""
import csv
import json
import random

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder

TRAIN = 40
rng = random.Random(7)
colours = ["red", "Blue", "green", "amber", "Zinc"]
rows = []
for i in range(60):
    colour = rng.choice(colours[:4] if i < TRAIN else colours)  # Zinc only after the split
    code = rng.choice([1, 2, 10, 33] if i < TRAIN else [1, 2, 10, 33, 7])
    x = "" if rng.random() < 0.2 else "%.2f" % rng.uniform(-5, 50)
    rows.append((colour, code, x, rng.choice(["yes", "no"])))

with open("onehot_input.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["colour", "code", "x", "label"])
    w.writerows(rows)

colour = np.array([[r[0]] for r in rows], dtype=object)
code = np.array([[r[1]] for r in rows])
x = np.array([[float(r[2]) if r[2] else np.nan] for r in rows])

enc_colour = OneHotEncoder(handle_unknown="ignore").fit(colour[:TRAIN])
enc_code = OneHotEncoder(handle_unknown="ignore").fit(code[:TRAIN])
imp = SimpleImputer(strategy="median").fit(x[:TRAIN])
out = np.hstack([enc_colour.transform(colour).toarray(), enc_code.transform(code).toarray(), imp.transform(x)])

with open("onehot_sklearn.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    for row in out:
        w.writerow([repr(float(v)) for v in row])

with open("onehot_categories.json", "w") as f:
    json.dump({"colour": [str(c) for c in enc_colour.categories_[0]],
               "code": [str(c) for c in enc_code.categories_[0]],
               "x_median": float(imp.statistics_[0])}, f)
    f.write("\n")
