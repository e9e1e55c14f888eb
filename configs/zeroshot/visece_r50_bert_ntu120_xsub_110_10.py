# Zero-shot RecognizerVisece on NTU120 XSub, 110/10 split: train on the 110 seen classes (xsub_train), test on the
# 10 unseen classes (xsub_val), scoring every clip against the 10 unseen class sentences only (top-1 chance:
# 1/10). Labels keep their original ids. The generalised setting is visece_r50_bert_ntu120_xsub_110_10_generalized.py.
_base_ = ['../visece/visece_r50_bert_ntu120_xsub.py']
# the unseen NTU actions (1-based A-numbers), written below as 0-based class ids (A11 -> 10):
# A5 drop; A14 wear jacket; A38 salute; A44 touch head with headache; A50 punching or slapping other person; A66
# juggling table tennis balls; A89 put something into a bag; A96 cross arms; A100 butt kicks kicking backward; A107
# wield knife towards other person
unseen_classes = [4, 13, 37, 43, 49, 65, 88, 95, 99, 106]
seen_classes = [c for c in range(120) if c not in unseen_classes]
model = dict(test_cfg=dict(class_subset=unseen_classes))
data = dict(
    train=dict(dataset=dict(class_subset=seen_classes)),
    val=dict(class_subset=unseen_classes),
    test=dict(class_subset=unseen_classes))
