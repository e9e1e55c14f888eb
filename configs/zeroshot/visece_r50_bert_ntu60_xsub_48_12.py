# Zero-shot RecognizerVisece on NTU60 XSub, 48/12 split: train on the 48 seen classes (xsub_train), test on the
# 12 unseen classes (xsub_val), scoring every clip against the 12 unseen class sentences only (top-1 chance:
# 1/12). Labels keep their original ids. The generalised setting is visece_r50_bert_ntu60_xsub_48_12_generalized.py.
_base_ = ['../visece/visece_r50_bert_ntu60_xsub.py']
# the unseen NTU actions (1-based A-numbers), written below as 0-based class ids (A11 -> 10):
# A4 brushing hair; A6 pick up; A10 clapping; A13 tear up paper; A16 wear a shoe; A41 sneeze or cough; A43 falling;
# A48 nausea or vomiting condition; A52 pushing other person; A57 touch other person's pocket; A59 walking towards
# each other; A60 walking apart from each other
unseen_classes = [3, 5, 9, 12, 15, 40, 42, 47, 51, 56, 58, 59]
seen_classes = [c for c in range(60) if c not in unseen_classes]
model = dict(test_cfg=dict(class_subset=unseen_classes))
data = dict(
    train=dict(dataset=dict(class_subset=seen_classes)),
    val=dict(class_subset=unseen_classes),
    test=dict(class_subset=unseen_classes))
