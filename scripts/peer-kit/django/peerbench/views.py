"""The peer's two views.

verify calls django_otp.verify_token, django-otp's own helper: in one
transaction it loads the device row with SELECT ... FOR UPDATE, checks the
throttle, verifies the code (TOTPDevice.verify_token: +-1 step, a step is
accepted once, last_t saved) and counts a failure. The device of user uN is
TOTP device N (the seed command makes it so).
"""
import json

from django.contrib.auth import get_user_model
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django_otp import verify_token


def _body(request):
    try:
        body = json.loads(request.body)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return None
    return body


@csrf_exempt
def verify(request):
    body = _body(request)
    if request.method != "POST" or body is None or not isinstance(body.get("user"), str):
        return JsonResponse({"error": "bad_request"}, status=400)
    user = get_user_model().objects.filter(username=body["user"]).first()
    if user is None:
        return JsonResponse({"error": "code_rejected"}, status=401)
    device = verify_token(user, "otp_totp.totpdevice/%d" % user.pk, body["code"])
    if device is None:
        return JsonResponse({"error": "code_rejected"}, status=401)
    return JsonResponse(
        {
            "factor": "totp",
            "verified_at": int(device.last_used_at.timestamp()) if device.last_used_at else 0,
            "recovery_codes_left": None,
            "recovery_codes_low": False,
            "remembered_until": None,
        }
    )


@csrf_exempt
def noop(request):
    body = _body(request)
    if body is None:
        return JsonResponse({"error": "bad_request"}, status=400)
    return JsonResponse(
        {
            "factor": body.get("method"),
            "verified_at": 1800000000,
            "recovery_codes_left": None,
            "recovery_codes_low": body["code"] == "",
            "remembered_until": None,
        }
    )
