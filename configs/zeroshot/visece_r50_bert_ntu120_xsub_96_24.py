# Zero-shot RecognizerVisece on NTU120 XSub, 96/24 split: train on the 96 seen classes (xsub_train), test on the
# 24 unseen classes (xsub_val), scoring every clip against the 24 unseen class sentences only (top-1 chance:
# 1/24). Labels keep their original ids. The generalised setting is visece_r50_bert_ntu120_xsub_96_24_generalized.py.
_base_ = ['../visece/visece_r50_bert_ntu120_xsub.py']
# the unseen NTU actions (1-based A-numbers), written below as 0-based class ids (A11 -> 10):
# A2 eat meal or snack; A4 brushing hair; A5 drop; A11 reading; A18 put on glasses; A20 put on a hat or cap; A28
# make a phone call or answer phone; A48 nausea or vomiting condition; A49 use a fan with hand or paper when feeling
# warm; A54 point finger at the other person; A59 walking towards each other; A64 bounce ball; A67 hush to ask for
# quiet; A80 squat down; A84 play magic cube; A87 put on bag; A90 take something out of a bag; A93 shake fist; A98
# arm swings; A99 running on the spot; A101 cross toe touch; A104 stretch oneself; A106 hit other person with
# something; A109 grab other person's stuff
unseen_classes = [1, 3, 4, 10, 17, 19, 27, 47, 48, 53, 58, 63, 66, 79, 83, 86, 89, 92, 97, 98, 100, 103, 105, 108]
seen_classes = [c for c in range(120) if c not in unseen_classes]
model = dict(test_cfg=dict(class_subset=unseen_classes))
data = dict(
    train=dict(dataset=dict(class_subset=seen_classes)),
    val=dict(class_subset=unseen_classes),
    test=dict(class_subset=unseen_classes))
