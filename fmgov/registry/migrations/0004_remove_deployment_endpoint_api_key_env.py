from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_register_legacy_credentials")]

    operations = [migrations.RemoveField(model_name="deployment", name="endpoint_api_key_env")]
