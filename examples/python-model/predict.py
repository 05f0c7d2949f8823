"""The reference platform's churn example as a Python model served to dfbatch.

dfbatch starts this script once per executor and sends it batches of customers
(the columns of examples/churn/customers.csv) over the subprocess protocol
(model/subprocess/PROTOCOL.md); predict scores each batch with pandas:

    dfbatch run --command "python3 predict.py" --input examples/churn/customers.csv ...

or from Go, through model/subprocess, as examples/python-model/main.go does:

    go run ./examples/python-model

dfbatch puts dfbatch_model on PYTHONPATH when it starts the process. To run it
by hand from the repository root (it then waits for protocol frames on stdin):

    PYTHONPATH=model/subprocess/python python3 examples/python-model/predict.py

As in the reference, the run's parameter "attribute" names a column that is
dropped before scoring (the customer id is always kept, for joining); the
output has one row per customer: customer_id, Churn_Probability and dropped,
the attribute this batch dropped, so a caller can see the parameter arrive.
"""

import os

import numpy as np
import pandas as pd

import dfbatch_model

# A fixed logistic model: each numeric feature adds coefficient * (value - centre)
# to the log-odds of churn. Short tenure, many support calls and high monthly
# charges raise churn; older and longer-paying customers churn a little less.
INTERCEPT = -1.2
NUMERIC = {
    # feature: (coefficient, centre)
    "tenure_months": (-0.06, 24.0),
    "support_calls": (0.55, 1.5),
    "monthly_charges": (0.03, 65.0),
    "total_charges": (-0.00015, 1800.0),
    "age": (-0.01, 48.0),
}
# contract_type: 0 month-to-month, 1 one year, 2 two years.
CONTRACT = {0: 0.9, 1: -0.4, 2: -1.3}


def predict(df: pd.DataFrame) -> pd.DataFrame:
    """Score a batch of customers: their churn probability in (0, 1)."""
    attribute = os.getenv("attribute", "default_customer")
    ids = df["customer_id"]
    features = df.drop(columns=[attribute], errors="ignore")

    # A dropped (or missing) feature adds nothing: it counts as its centre.
    logit = pd.Series(INTERCEPT, index=df.index, dtype="float64")
    for name, (coef, centre) in NUMERIC.items():
        if name in features.columns:
            values = pd.to_numeric(features[name], errors="coerce").fillna(centre)
            logit += coef * (values - centre)
    if "contract_type" in features.columns:
        logit += features["contract_type"].map(CONTRACT).fillna(0.0).astype("float64")

    probability = 1.0 / (1.0 + np.exp(-logit.to_numpy()))
    return pd.DataFrame({
        "customer_id": ids.to_numpy(),
        "Churn_Probability": np.clip(probability, 1e-9, 1 - 1e-9),
        "dropped": attribute,
    })


if __name__ == "__main__":
    dfbatch_model.serve(predict)
