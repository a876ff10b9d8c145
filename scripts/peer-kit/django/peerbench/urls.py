"""POST /verify (django-otp's verify_token) and POST /noop."""
from django.urls import path

from peerbench import views

urlpatterns = [
    path("verify", views.verify),
    path("noop", views.noop),
]
