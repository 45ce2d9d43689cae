"""Plotly figure builders shared by the pages: each returns a go.Figure and never draws.

One module per area: common (tiles, heatmaps), network (calculator),
playground, training, draw.
"""
