"""The questions funnelsim answers: assessment, claims check, planning, calibration, classroom, evidence."""
