from .class_balanced_sampler import ClassBalancedSampler, class_sampling_probs

__all__ = ['ClassBalancedSampler', 'class_sampling_probs']
