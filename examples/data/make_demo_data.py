#!/usr/bin/python3
# Makes the demo's labelled rows and its retrained churn candidate (examples/README.md):
#   examples/data/churn-labelled.csv  the 200 rows of loadtest/data/churn-rows.csv plus a `churned` label
#   examples/churn-3/model.json       an XGBoost model trained on the other 1800 rows of the same draw
#
# The demo models were trained on synthetic data whose labels were not kept, so labels are
# simulated: each row's label is drawn (numpy PCG64, seed 21) with the probability the mean of the
# demo's versions 1 and 2 gives it. Good for trying every command; not evidence about the models.
# Run from the repository root after `npm run build`, with Debian's python3-xgboost (1.7.4):
#   /usr/bin/python3 examples/data/make_demo_data.py
import subprocess

import numpy as np
import xgboost as xgb

ROWS = 'test/fixtures/xgboost/xgb-binary-100x4/test.csv'  # its first 200 rows are loadtest/data/churn-rows.csv
HOLDOUT = 200


def grove_predict(model):
    out = subprocess.run(['node', 'dist/cli/grove.js', 'predict', '--model', model, '--input', ROWS],
                         check=True, capture_output=True, text=True).stdout
    return np.array([float(x) for x in out.split()])


lines = open(ROWS).read().strip().split('\n')
header, body = lines[0], lines[1:]
p = (grove_predict('models/churn/1/model.json') + grove_predict('models/churn/2/model.txt')) / 2
y = (np.random.default_rng(21).random(len(p)) < p).astype(int)

with open('examples/data/churn-labelled.csv', 'w') as f:
    f.write(header + ',churned\n')
    for line, label in zip(body[:HOLDOUT], y[:HOLDOUT]):
        f.write(f'{line},{label}\n')

X = np.array([[float(v) if v != '' else np.nan for v in line.split(',')] for line in body[HOLDOUT:]])
d = xgb.DMatrix(X, label=y[HOLDOUT:], feature_names=header.split(','))
params = {'objective': 'binary:logistic', 'max_depth': 3, 'eta': 0.1, 'seed': 0, 'tree_method': 'hist'}
booster = xgb.train(params, d, num_boost_round=150)
booster.save_model('examples/churn-3/model.json')
print('labels: %d of %d churned; candidate: %d trees' % (y[:HOLDOUT].sum(), HOLDOUT, 150))
