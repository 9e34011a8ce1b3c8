print("baocuo")
