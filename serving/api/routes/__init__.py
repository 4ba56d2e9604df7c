"""The API's routes, one APIRouter per concern: classify, ops, feedback, admin."""
