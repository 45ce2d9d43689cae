"""cnnviz: the library behind the app. Pure Python + torch; never imports streamlit."""

__version__ = "0.1.0"
