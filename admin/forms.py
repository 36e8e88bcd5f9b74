"""Forms of the staff pages that Flask-Admin does not build itself. All carry a CSRF token."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class MoveCohortForm(FlaskForm):
    research_ids = HiddenField(validators=[DataRequired()])
    cohort_id = SelectField("Move to cohort", coerce=int, validators=[DataRequired()])
