"""What people see: figures, report notebooks and their HTML, parameters of a report."""
