"""The web layer's Flask extensions, created unbound; ``create_app`` binds them to an app."""
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sock import Sock

migrate = Migrate(compare_type=True, render_as_batch=True)
jwt = JWTManager()
sock = Sock()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
