from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from ..selectors import user_sides


@login_required
def home(request):
    """The landing page sends each person to their side: a merchant who has bought nothing to the
    merchant's Resolution Center, a reviewer with nothing else to the admin, everyone else to
    their orders. Someone who is both customer and merchant switches in the header."""
    sides = user_sides(user=request.user)
    if sides.merchant and not sides.customer:
        return redirect("merchant:home")
    if sides.reviewer and not sides.customer and not sides.merchant:
        return redirect("admin:index")
    return redirect("cases:orders")
