"""The sentence classifier with a token head beside it: label and evidence in one pass.

`BertWithEvidence` is BertForSequenceClassification plus a token head scoring the
BIO evidence tags of serving's `EVIDENCE_TAGS` for every token. Both heads read
the same encoder, so the evidence costs the runtime a small head rather than a
second model, and one loss trains them: label cross-entropy (with label
smoothing, which the Trainer cannot apply to a model with two outputs) plus
`evidence_weight` times the tag cross-entropy over the tokens that have gold tags.

The token head is set by the config: `evidence_layers` (which hidden states it
reads, side by side; none: the last) and `evidence_kernel` (0: one linear layer
per token; k: a convolution over k neighbouring tokens, then a linear layer).
Trained alone on a frozen sentence model, a convolution over middle and last
layers finds spans far better than a linear layer over the last, which the
sentence head has tuned to the label. The convolution is written as a matrix
multiply over each token's window of neighbours: exported as an ONNX Conv node,
the full-size model's tags came out up to 1.9e-3 apart for a sentence alone and
in a batch of 32 (export's invariance check refused it); as a MatMul they are
identical, and it is quantised like the encoder's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from transformers import BertForSequenceClassification
from transformers.utils import ModelOutput

from ..evidence import EVIDENCE_TAGS, IGNORE_TAG

__all__ = [
    "EVIDENCE_WIDTH",
    "BertWithEvidence",
    "EvidenceHead",
    "EvidenceOutput",
    "TokenAttention",
    "token_windows",
]

#: channels of the convolutional token head
EVIDENCE_WIDTH = 256


def token_windows(tokens: torch.Tensor, kernel: int) -> torch.Tensor:
    """Each token's features beside those of its kernel // 2 neighbours on either side."""
    half, length = kernel // 2, tokens.shape[1]
    padded = nn.functional.pad(tokens, (0, 0, half, half))
    return torch.cat([padded[:, i : i + length] for i in range(kernel)], dim=-1)


class TokenAttention(nn.Module):
    """One pre-norm self-attention block over the head's token channels, then a feed-forward.

    The window sees five word pieces; which party is the source, and where a long name
    or a cue ends, often depends on words further away ("..., the ministry's spokeswoman
    said" after a long clause). On the frozen encoder's states, this block raised source
    token-F1 on dev_wire by three points. Padding is masked out of the keys with a large
    negative score, so a real token's output does not depend on how much padding its
    batch adds; padded rows compute something that nobody reads.
    """

    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} does not split into {heads} attention heads")
        self.heads, self.size = heads, width // heads
        self.norm = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.ff_norm = nn.LayerNorm(width)
        self.ff_in = nn.Linear(width, 2 * width)
        self.ff_out = nn.Linear(2 * width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        batch, length, width = tokens.shape
        qkv = self.qkv(self.norm(tokens)).reshape(batch, length, 3, self.heads, self.size)
        query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        scores = query @ key.transpose(-1, -2) / math.sqrt(self.size)
        padding = 1.0 - attention_mask[:, None, None, :].to(scores.dtype)
        weights = self.dropout((scores - padding * 1e9).softmax(-1))
        mixed = (weights @ value).transpose(1, 2).reshape(batch, length, width)
        tokens = tokens + self.dropout(self.out(mixed))
        inner = self.dropout(nn.functional.relu(self.ff_in(self.ff_norm(tokens))))
        return tokens + self.dropout(self.ff_out(inner))


class EvidenceHead(nn.Module):
    """A token head on a finished encoder's hidden states (`claimtype attach-evidence`).

    Each token's states are first projected to `width` channels, then read in a window of
    `kernel` neighbours: projecting first makes the head about a fifth of the size of
    BertWithEvidence's window over the raw states (which cost 13% of batch throughput)
    and it found spans as well on dev_wire. Padding is zeroed after the projection, so
    it reads like the space past a sentence's ends and tags do not depend on the batch.
    With `attention_heads`, a TokenAttention block then lets each token see the whole
    sentence before its tags are scored.
    """

    def __init__(
        self,
        features: int,
        width: int,
        kernel: int = 3,
        dropout: float = 0.1,
        attention_heads: int = 0,
    ) -> None:
        super().__init__()
        self.kernel = kernel
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Linear(features, width)
        self.window = nn.Linear(width * kernel, width)
        self.attention = (
            TokenAttention(width, attention_heads, dropout) if attention_heads else None
        )
        self.tags = nn.Linear(width, len(EVIDENCE_TAGS))

    def forward(self, states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Tag logits (batch, tokens, tags) from the chosen layers' states side by side."""
        tokens = self.project(self.dropout(states))
        tokens = tokens * attention_mask.unsqueeze(-1).to(tokens.dtype)
        windows = token_windows(tokens, self.kernel)
        tokens = nn.functional.gelu(self.window(windows))
        if self.attention is not None:
            tokens = self.attention(tokens, attention_mask)
        return self.tags(tokens)


@dataclass
class EvidenceOutput(ModelOutput):
    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    evidence_logits: torch.Tensor | None = None


class BertWithEvidence(BertForSequenceClassification):
    """Sentence logits from the pooled [CLS], evidence-tag logits from each token."""

    def __init__(self, config) -> None:  # type: ignore[no-untyped-def]
        super().__init__(config)
        self.evidence_layers = tuple(getattr(config, "evidence_layers", None) or ())
        self.evidence_kernel = int(getattr(config, "evidence_kernel", 0) or 0)
        features = config.hidden_size * max(1, len(self.evidence_layers))
        self.evidence_window = (
            nn.Linear(features * self.evidence_kernel, EVIDENCE_WIDTH)
            if self.evidence_kernel
            else None
        )
        self.evidence = nn.Linear(
            EVIDENCE_WIDTH if self.evidence_kernel else features, len(EVIDENCE_TAGS)
        )
        self.label_smoothing = 0.0
        self.evidence_weight = 1.0
        self.post_init()

    def _tag_logits(self, hidden, attention_mask: torch.Tensor | None) -> torch.Tensor:  # type: ignore[no-untyped-def]
        if self.evidence_layers:
            tokens = torch.cat([hidden.hidden_states[n] for n in self.evidence_layers], dim=-1)
        else:
            tokens = hidden.last_hidden_state
        tokens = self.dropout(tokens)
        if self.evidence_window is not None:
            if attention_mask is not None:
                # padding reads as zeros, as past the sentence's ends: a token's tags do
                # not depend on how much padding its batch adds
                tokens = tokens * attention_mask.unsqueeze(-1).to(tokens.dtype)
            windows = token_windows(tokens, self.evidence_kernel)
            tokens = nn.functional.gelu(self.evidence_window(windows))
        return self.evidence(tokens)

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
            output_hidden_states=bool(self.evidence_layers),
            return_dict=True,
            **kwargs,
        )
        logits = self.classifier(self.dropout(hidden.pooler_output))
        evidence_logits = self._tag_logits(hidden, attention_mask)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
        if evidence_tags is not None and (evidence_tags != IGNORE_TAG).any():
            tag_loss = nn.functional.cross_entropy(
                evidence_logits.flatten(0, 1), evidence_tags.flatten(), ignore_index=IGNORE_TAG
            )
            loss = tag_loss * self.evidence_weight + (loss if loss is not None else 0.0)
        return EvidenceOutput(loss=loss, logits=logits, evidence_logits=evidence_logits)
