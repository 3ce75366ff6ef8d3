# mmmg's CTR-GCN backbone with PYSKL's sizes (10 blocks, 64/128/256
# channels, temporal kernel 5, dilations 1 and 2), one interviewee per clip.
# The CTR-GCN configs put it in place of an ST-GCN++ config's backbone,
# keeping that config's graph: PYSKL's CTR-GCN recipe
# (configs/ctrgcn/ctrgcn_pyskl_ntu60_xsub_hrnet/{j,b,jm,bm}.py) is its
# ST-GCN++ recipe (configs/stgcn++/stgcn++_ntu60_xsub_hrnet/) with only the
# backbone changed.
ctrgcn_backbone = dict(_delete_=True, type='CTRGCN', num_person=1)
