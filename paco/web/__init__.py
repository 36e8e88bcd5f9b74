"""The participant web app: one page, plain JavaScript modules and CSS, all served locally."""
from flask import Blueprint, render_template

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/web")


@bp.get("/")
def index():
    return render_template("web/index.html")
