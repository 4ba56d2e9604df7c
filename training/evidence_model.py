"""The sentence classifier with a token head beside it: label and evidence in one pass.

`BertWithEvidence` is BertForSequenceClassification plus one linear layer over
every token's hidden state, scoring the BIO evidence tags of serving's
`EVIDENCE_TAGS`. Both heads read the same encoder, so the evidence costs the
runtime one small MatMul rather than a second model, and the loss trains them
together: label cross-entropy (with label smoothing, which the Trainer cannot
apply to a model with two outputs) plus `evidence_weight` times the tag
cross-entropy over the tokens that have gold tags.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import BertForSequenceClassification
from transformers.utils import ModelOutput

from ..evidence import EVIDENCE_TAGS, IGNORE_TAG

__all__ = ["BertWithEvidence", "EvidenceOutput"]


@dataclass
class EvidenceOutput(ModelOutput):
    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    evidence_logits: torch.Tensor | None = None


class BertWithEvidence(BertForSequenceClassification):
    """Sentence logits from the pooled [CLS], evidence-tag logits from each token."""

    def __init__(self, config) -> None:  # type: ignore[no-untyped-def]
        super().__init__(config)
        self.evidence = nn.Linear(config.hidden_size, len(EVIDENCE_TAGS))
        self.label_smoothing = 0.0
        self.evidence_weight = 1.0
        self.post_init()

    def forward(  # type: ignore[override]
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        evidence_tags: torch.Tensor | None = None,
        **kwargs,  # type: ignore[no-untyped-def]
    ) -> EvidenceOutput:
        hidden = self.bert(
            input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            return_dict=True,
            **kwargs,
        )
        logits = self.classifier(self.dropout(hidden.pooler_output))
        evidence_logits = self.evidence(self.dropout(hidden.last_hidden_state))
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
        if evidence_tags is not None and (evidence_tags != IGNORE_TAG).any():
            tag_loss = nn.functional.cross_entropy(
                evidence_logits.flatten(0, 1), evidence_tags.flatten(), ignore_index=IGNORE_TAG
            )
            loss = tag_loss * self.evidence_weight + (loss if loss is not None else 0.0)
        return EvidenceOutput(loss=loss, logits=logits, evidence_logits=evidence_logits)
