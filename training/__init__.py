"""Training side of claimtype: data, fine-tuning, export, evaluation.

Needs the `train` extra (`pip install 'claimtype[train]'`). It imports the runtime for the
contract (labels, normalisation, tokenisation, model-directory format), never
the reverse.
"""
