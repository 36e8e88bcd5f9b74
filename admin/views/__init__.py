"""The admin site's model views, one module per part of the study."""
