r"""Customer lifetime value of a transaction log on a Spark cluster.

Copy this file to the cluster and submit it; every worker needs crmmodels installed
(``pip install "crmmodels[spark]"`` in the image, or ship a wheel with ``--py-files``):

    spark-submit --master yarn --deploy-mode cluster \\
        --conf spark.sql.session.timeZone=UTC \\
        spark_clv.py s3://bucket/transactions/ s3://bucket/clv/ --observation-end 2025-12-28

What runs where:

* the customer summary is a Spark aggregation (one row per customer stays on Spark);
* the fits read only the distinct (frequency, recency, T) histories and their counts,
  and the distinct (frequency, monetary_value) pairs, collected to the driver;
* scoring runs on the executors, batch by batch in Arrow, with each model shipped as
  JSON; the scores never reach the driver and are written as Parquet by Spark.

The models are also saved as JSON next to the scores (one row per model), so a later
job can score new summaries without fitting again:
``BGNBD.from_json(spark.read.json(out + "/models").where("model = 'bgnbd'").first().json)``.
"""

from __future__ import annotations

import argparse
from typing import Any

from pyspark.sql import SparkSession

from crmmodels import summarize_transactions
from crmmodels.clv import BGNBD, GammaGamma, customer_lifetime_value


def main() -> None:
    """Read the log, fit, score and write; arguments from the command line."""
    ap = argparse.ArgumentParser(description="BG/NBD + Gamma-Gamma CLV on Spark")
    ap.add_argument("transactions", help="Parquet folder: customer_id, date, amount")
    ap.add_argument("out", help="output folder (Parquet scores and the models as JSON)")
    ap.add_argument("--observation-end", required=True, help="last day observed, ISO date")
    ap.add_argument("--horizon", type=float, default=52.0, help="weeks ahead")
    ap.add_argument("--discount-rate", type=float, default=0.10, help="per year")
    args = ap.parse_args()

    spark = SparkSession.builder.appName("crmmodels-clv").getOrCreate()
    log = spark.read.parquet(args.transactions)

    # 1. The summary on Spark: one row per customer, weeks on a day grid. Cached, since
    #    the fits and the scoring below all read it.
    summary = summarize_transactions(
        log,
        customer_col="customer_id",
        date_col="date",
        amount_col="amount",
        observation_end=args.observation_end,
        period="D",
        time_unit="W",
    ).cache()

    # 2. The fits: only the distinct histories and their counts reach the driver.
    bgnbd = BGNBD().fit(summary)
    spend = GammaGamma().fit(summary)
    print(bgnbd)
    print(spend)

    # 3. Scoring on the executors; the results are Spark frames.
    purchases: Any = bgnbd.predict(summary, horizon=args.horizon)
    value: Any = customer_lifetime_value(
        bgnbd,
        spend,
        summary,
        horizon=args.horizon,
        discount_rate=args.discount_rate,
        discount_period=52,
    )
    per_customer = value.data  # the result's per-customer table, a Spark frame
    scores = purchases.join(per_customer.select("customer_id", "clv"), on="customer_id")
    scores.write.mode("overwrite").parquet(f"{args.out}/scores")

    # 4. The models, for later scoring jobs and for the record: one row per model.
    models = [("bgnbd", bgnbd.to_json(indent=None)), ("gamma_gamma", spend.to_json(indent=None))]
    frame = spark.createDataFrame(models, "model string, json string").coalesce(1)
    frame.write.mode("overwrite").json(f"{args.out}/models")
    spark.stop()


if __name__ == "__main__":
    main()
