"""The console's read models (fed by its consumers), its live hub and its queries."""
