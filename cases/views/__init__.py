"""The product's pages: customer.py (the customer's side), merchant.py (the merchant's side),
files.py (the evidence download), home.py (the landing page that routes to a side)."""
