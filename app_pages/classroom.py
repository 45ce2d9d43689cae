"""Class: the teacher's view for the projector. Students join with the QR code or the link, draw on *Draw a
digit* from their phones, and each one's latest drawing appears on the wall with the model's answer.

Only the teacher sees it (app_pages/shell/teacher.py): the teacher code when one is set, else the server's own
computer. The drawings live in the shared folder (cnnviz.classwall), so every replica's students reach one wall.
"""
import streamlit as st

from app_pages.parts import class_wall as parts
from app_pages.shell import teacher
from cnnviz import classwall, joining

teacher.require()  # stops for anyone but the teacher
st.title("🏫 Class")
place = joining.joining(st.get_option("server.address"), st.get_option("server.port"), joining.interface_addresses(),
                        st.context.url)
parts.join_banner(place)
wall = classwall.folder()
target = parts.controls(wall)
st.caption("Wrong and unsure drawings come first. Click one to open it on *Draw a digit* for the class. "
           "Nothing is kept on disk but the wall's own small files, until you press **Save these drawings**.")
parts.wall_view(wall, target)
