print("devserve")
