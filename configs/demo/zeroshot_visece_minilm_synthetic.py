# Zero-shot RecognizerVisece on the synthetic skeleton set: train on 14 seen classes, test on 4 unseen ones, scoring
# every clip against the 4 unseen class sentences only (top-1 chance: 1/4).
# Each unseen class has a seen sibling doing the same movement with the other limb, and every word of an unseen
# sentence occurs in some seen sentence, so the text encoder can place the unseen sentences by composition:
#   1 waving the left hand                 <- 0 waving the right hand (and "left hand" from 5)
#   3 raising the left arm                 <- 2 raising the right arm, 8 raising both arms
#   4 punching forward with the right hand <- 5 punching forward with the left hand
#   7 kicking with the left leg            <- 6 kicking with the right leg
# The unseen classes are never trained on, so all their clips (train and val splits) are test clips.
# The generalised setting (all 18 sentences; seen / unseen accuracy and their harmonic mean) is a --cfg-options
# switch, see configs/zeroshot/README.md.
_base_ = ['./visece_minilm_synthetic.py']
unseen_classes = [1, 3, 4, 7]
seen_classes = [c for c in range(18) if c not in unseen_classes]
model = dict(test_cfg=dict(class_subset=unseen_classes))
data = dict(
    train=dict(class_subset=seen_classes),
    val=dict(split=None, class_subset=unseen_classes),
    test=dict(split=None, class_subset=unseen_classes))
evaluation = dict(topk=(1, 2))
