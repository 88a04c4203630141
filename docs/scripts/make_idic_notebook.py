"""Build notebooks/03b_idic.ipynb (no stored outputs): python docs/scripts/make_idic_notebook.py."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[2] / "notebooks" / "03b_idic.ipynb"

CELLS = [
    (
        "md",
        "# IDIC: identify, differentiate, interact, customise\n\n"
        "Peppers & Rogers' four steps (MODELS.md section 5, article A) with "
        "`crmmodels.idic`, on the simulated CRM data set of `crmmodels.datasets._crm`: "
        "customer records from three sources with known duplicates, an interaction log "
        "and purchases by category and channel from three known needs segments.",
    ),
    (
        "code",
        "import matplotlib\n"
        "matplotlib.use('Agg')\n"
        "import pandas as pd\n\n"
        "from crmmodels.datasets._crm import simulate_crm\n"
        "from crmmodels.idic import (\n"
        "    customize, differentiate, interaction_profile, linkage_quality,\n"
        "    normalize_email, normalize_phone, normalize_name, resolve_identities,\n"
        ")\n"
        "from crmmodels.portfolio import pareto_analysis\n\n"
        "crm = simulate_crm(600, seed=7)\n"
        "crm.records.head(8)",
    ),
    ("md", "## 1. Identify\n\nThe normalisation rules on a few hand-written values:"),
    (
        "code",
        "pd.DataFrame({\n"
        "    'email': [' J.Smith+news@GoogleMail.com', 'Ann.Lee@Example.COM'],\n"
        "    'normalised email': normalize_email(pd.Series([' J.Smith+news@GoogleMail.com', "
        "'Ann.Lee@Example.COM'])),\n"
        "    'phone': ['(212) 555-0101', '001 212 555 0101'],\n"
        "    'normalised phone': normalize_phone(pd.Series(['(212) 555-0101', "
        "'001 212 555 0101'])),\n"
        "    'name': ['  José  O\\'Brien', 'OBRIEN, Jose'],\n"
        "    'normalised name': normalize_name(pd.Series(['  José  O\\'Brien', "
        "'OBRIEN, Jose']), sort_tokens=True),\n"
        "})",
    ),
    (
        "md",
        "Exact keys (email, phone, name + address) link records through connected "
        "components; blocked fuzzy matching adds records whose names carry typos and "
        "whose emails and phones are missing.",
    ),
    (
        "code",
        "kw = dict(id_col='record_id', email_cols=['email'], phone_cols=['phone'],\n"
        "          name_cols=['first_name', 'last_name'], address_cols=['street', 'postcode'],\n"
        "          source_col='source')\n"
        "truth = crm.records['true_customer_id']\n"
        "for fuzzy in (False, True):\n"
        "    r = resolve_identities(crm.records, fuzzy=fuzzy, block_cols=['postcode'], **kw)\n"
        "    q = linkage_quality(r.records['customer_key'], truth)\n"
        "    print(f'fuzzy={fuzzy}: {r.n_customers} customers, '\n"
        '          f\'precision {q["precision"]:.3f}, recall {q["recall"]:.3f}\')\n'
        "ident = r\n"
        "ident",
    ),
    ("code", "ident.report.sort_values('n_records', ascending=False).head()"),
    ("code", "ident.links.head(8)"),
    ("code", "ident.plot();"),
    (
        "md",
        "## 2. Differentiate\n\nValue tiers from the 80/20 analysis (ABC classes) crossed "
        "with needs segments found by k-means on the share of spend per category and "
        "channel; k by silhouette.",
    ),
    (
        "code",
        "tiers = pareto_analysis(crm.purchases, value_col='amount', "
        "customer_col='customer_id').classes\n"
        "diff = differentiate(crm.purchases, category_col='category', channel_col='channel',\n"
        "                     tiers=tiers, tier_col='class')\n"
        "diff.silhouette",
    ),
    ("code", "diff.matrix_counts"),
    ("code", "diff.profiles.round(3)"),
    ("code", "diff.plot();"),
    (
        "code",
        "check = diff.customers.merge(crm.customers, on='customer_id')\n"
        "pd.crosstab(check['needs_segment'], check['segment_label'])",
    ),
    ("md", "## 3. Interact\n\nContact profile per customer and coverage of the A class."),
    (
        "code",
        "strategic = tiers.loc[tiers['class'] == 'A', 'customer_id']\n"
        "inter = interaction_profile(crm.interactions, response_col='responded',\n"
        "                            strategic=strategic, coverage_days=60)\n"
        "print(f'coverage of class A in 60 days: {inter.coverage:.1%}')\n"
        "inter.profiles.head()",
    ),
    ("code", "inter.plot();"),
    (
        "md",
        "## 4. Customise\n\nA validated rule table; every customer gets exactly one "
        "action, overlaps resolved by priority.",
    ),
    (
        "code",
        "rules = [\n"
        "    {'name': 'protect', 'action': 'key-account manager', 'priority': 30,\n"
        "     'conditions': {'tier': 'A', 'days_since_contact': {'min': 60}}},\n"
        "    {'name': 'grow readers', 'action': 'book club offer', 'priority': 20,\n"
        "     'conditions': {'tier': ['A', 'B'], 'segment_label': 'books/web'}},\n"
        "    {'name': 'serve A', 'action': 'priority service', 'priority': 10,\n"
        "     'conditions': {'tier': 'A'}},\n"
        "]\n"
        "table = diff.customers[['customer_id', 'tier', 'segment_label']].merge(\n"
        "    inter.profiles[['customer_id', 'days_since_contact']], on='customer_id', "
        "how='left')\n"
        "table['days_since_contact'] = table['days_since_contact'].fillna(10_000.0)\n"
        "actions = customize(table, rules)\n"
        "actions.rule_report",
    ),
    ("code", "actions.assignments['action'].value_counts()"),
    (
        "code",
        "from crmmodels.errors import DataError\n"
        "try:\n"
        "    customize(table, [{'name': 'x', 'action': 'y', 'conditions': {'tier': 'AA'}}])\n"
        "except DataError as exc:\n"
        "    print(exc)",
    ),
    ("code", "actions.plot();"),
]


def main() -> None:
    """Write the notebook."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.cells = [new_markdown_cell(s) if k == "md" else new_code_cell(s) for k, s in CELLS]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, OUT)


if __name__ == "__main__":
    main()
