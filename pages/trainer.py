import streamlit as st

st.title("trainer")
st.info("This page is being built.")
