# Generalised zero-shot RecognizerVisece on NTU120 XSub, 110/10 split. Training as in
# visece_r50_bert_ntu120_xsub_110_10.py (seen classes only); testing scores the xsub_val clips of all 120
# classes against all 120 class sentences, and the metric seen_unseen_accuracy reports seen_acc,
# unseen_acc and their harmonic_mean (the best checkpoint is kept by harmonic_mean).
_base_ = ['./visece_r50_bert_ntu120_xsub_110_10.py']
model = dict(test_cfg=dict(class_subset=None))
data = dict(val=dict(class_subset=None), test=dict(class_subset=None))
evaluation = dict(
    metrics=['seen_unseen_accuracy', 'top_k_accuracy', 'mean_class_accuracy'],
    unseen_classes={{_base_.unseen_classes}},
    save_best='harmonic_mean')
