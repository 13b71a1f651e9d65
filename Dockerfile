# The one image docker-compose.yml runs as the migrate, web and worker services (README "Running in
# production"). Python only: the health checks use it, not curl.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
COPY syncapp ./syncapp
RUN pip install --no-cache-dir .

COPY . .
# Static files go into the image (WhiteNoise serves them). The throwaway secrets only let the
# settings load for this one command: nothing is signed or encrypted with them.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    TOKEN_ENCRYPTION_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput

# The code and static files stay root's: the server cannot rewrite them.
RUN useradd --system --no-create-home app
USER app
EXPOSE 8000
CMD ["gunicorn", "syncapp.wsgi:application", "--bind", "0.0.0.0:8000"]
