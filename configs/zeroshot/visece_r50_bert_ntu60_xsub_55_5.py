# Zero-shot RecognizerVisece on NTU60 XSub, 55/5 split: train on the 55 seen classes (xsub_train), test on the
# 5 unseen classes (xsub_val), scoring every clip against the 5 unseen class sentences only (top-1 chance:
# 1/5). Labels keep their original ids. The generalised setting is visece_r50_bert_ntu60_xsub_55_5_generalized.py.
_base_ = ['../visece/visece_r50_bert_ntu60_xsub.py']
# the unseen NTU actions (1-based A-numbers), written below as 0-based class ids (A11 -> 10):
# A11 reading; A12 writing; A20 put on a hat or cap; A27 jump up; A57 touch other person's pocket
unseen_classes = [10, 11, 19, 26, 56]
seen_classes = [c for c in range(60) if c not in unseen_classes]
model = dict(test_cfg=dict(class_subset=unseen_classes))
data = dict(
    train=dict(dataset=dict(class_subset=seen_classes)),
    val=dict(class_subset=unseen_classes),
    test=dict(class_subset=unseen_classes))
