# One image for web, worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=fmgov.settings.production FMGOV_VAR_DIR=/data

# WeasyPrint's system libraries (Pango, HarfBuzz) and fonts; pg_isready for start-up ordering.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
      fonts-dejavu-core postgresql-client curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Build-only values satisfy the production settings for collectstatic; compose supplies the real ones.
RUN SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    AUDIT_CHECKPOINT_KEY=build-only CREDENTIAL_PUBLIC_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput \
 && useradd --system --home /app fmgov && mkdir -p /data && chown fmgov /data
USER fmgov
EXPOSE 8000
CMD ["gunicorn", "fmgov.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
